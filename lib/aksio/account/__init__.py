"""The account's lifecycle: usage and plan at a glance, the activity log, deletion of
everything of a user (a resumable job behind a tombstone), and export."""

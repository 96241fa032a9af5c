"""Study reminders: when a user is reminded (pure :mod:`.model`), and, to come, the devices
and inbox they are sent to and the scheduled run that sends them."""

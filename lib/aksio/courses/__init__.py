"""Courses: a course groups ordered sections, documents and decks, with an optional exam date."""

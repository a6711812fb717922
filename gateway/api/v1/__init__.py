"""Version 1 of the recipient API (issue 9): requests that a clerk decides."""

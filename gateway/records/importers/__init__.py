"""Booking importers: one module per roster format, all producing the plain values of `base`."""

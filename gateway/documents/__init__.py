"""Legal documents: warrants, court orders, subpoenas, immigration papers and signed agreements."""

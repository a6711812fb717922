"""records/importing"""

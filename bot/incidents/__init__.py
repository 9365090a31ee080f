"""Calls for help as conversations between a person in trouble and their security team."""

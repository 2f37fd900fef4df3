"""The commands a user runs: check, grade, dist, list, export."""

"""A portal where care providers prepare, review and submit statutory notifications together."""

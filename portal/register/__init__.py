"""The regulator's register of providers and locations, imported from its published directory (docs/register.md)."""

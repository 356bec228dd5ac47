"""The address book: the addresses a customer keeps for checkout."""

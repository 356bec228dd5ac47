"""Orders: checkout, the order state machine, order history and e-mails."""

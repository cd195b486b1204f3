"""Payment methods: the ways a customer pays, as a payment processor described them."""

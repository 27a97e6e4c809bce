"""The chat side of digestbot: commands, subscriptions, delivery, scheduling, the worker."""

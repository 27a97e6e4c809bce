"""The news side of digestbot: feed -> entry -> article -> digest card -> rendered message.

Nothing in this package knows about chat platforms; ``bot`` imports ``digests``, never the
other way round.
"""

"""Peerlearn's domain logic and wiring."""

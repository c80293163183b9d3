"""Peer to peer: catalog, pricing, stock and checkout services calling each other directly."""

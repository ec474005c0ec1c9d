"""Restores: choose a set, fetch it from the remote, a throwaway server, compare, disaster restore, volume switch."""

"""Learning from analysts: feedback on incidents and the suppressions it creates."""

"""Site load management: the electrical tree, the allocator, the control loop and the plans."""

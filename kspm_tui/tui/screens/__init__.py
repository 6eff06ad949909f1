"""One module per view on the drill path (contexts → overview → namespace → workload → finding)."""

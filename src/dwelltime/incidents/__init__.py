"""Risk-based incidents: alerts add risk to their entity; an incident opens when the risk crosses a threshold."""

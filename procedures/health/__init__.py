"""Health over time: is the evidence that the stack can be recovered recent (freshness)?"""

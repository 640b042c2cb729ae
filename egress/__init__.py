"""Egress: requests, automatic checks, reviews, signed release bundles and their verification."""

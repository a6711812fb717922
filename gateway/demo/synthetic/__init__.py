"""A synthetic Milwaukee-like county for demos, tests and benchmarks: `county_generate` is the entry point."""

from gateway.demo.synthetic.services import (
    CountyStats,
    SyntheticCountyError,
    SyntheticErrorCode,
    county_generate,
)

__all__ = ["CountyStats", "SyntheticCountyError", "SyntheticErrorCode", "county_generate"]

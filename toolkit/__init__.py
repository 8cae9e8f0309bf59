"""toolkit: rectification ledgers (巡察整改台账) in, official notices (通报) out."""

__version__ = "0.1.0"

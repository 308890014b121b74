"""gansunews: a complete, clean, deduplicated archive of 中国甘肃网 news, attributed to Gansu's divisions."""

__version__ = "0.1.0"

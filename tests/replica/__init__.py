"""A local replica of 中国甘肃网 for offline crawls: `site` models it, `render` draws it, `server` serves it."""

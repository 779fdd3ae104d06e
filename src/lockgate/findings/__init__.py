"""The one results model every scanner produces and every renderer and gate consumes."""

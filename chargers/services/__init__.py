"""Every write that matters, one module per entity family: keyword-only, typed functions named
`<entity>_<verb>`, each atomic on its own. Views, API views, forms, management commands, the OCPP
handlers and tasks call them; none writes a model itself."""

"""The charger domain's REST resources, one module per family; `cpms.api_urls` routes them."""

"""Settings package: `base` holds what every environment shares; `dev`, `production` and `test`
overlay it. Topic modules (`q_cluster`, `rest_framework`) are imported by `base`."""

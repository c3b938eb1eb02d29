// Package deploycheck holds static checks of the Dockerfile, .dockerignore,
// docker-compose.yml and .env.example: no Docker engine runs in CI, so the
// tests parse the files and assert what `docker build` and `docker compose up`
// rely on. It has no code of its own.
package deploycheck

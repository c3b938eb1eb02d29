-- +goose Up
-- PostgreSQL's 00083 leaves room in the pages of the audience tables for
-- updates in place; SQLite has no such setting. Kept so both stores carry
-- the same migration numbers.
SELECT 1;

-- +goose Down
SELECT 1;

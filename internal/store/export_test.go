package store

import "context"

// MigrateDownTo rolls the schema back to version, for migration tests.
func (s *Store) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

// ExecForTest runs one statement through GORM (so times are written the way
// the store writes them), for tests that set up old-schema rows.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	return s.db.WithContext(ctx).Exec(q, args...).Error
}

// RawForTest reads one string column of one row.
func (s *Store) RawForTest(ctx context.Context, q string, args ...any) (string, error) {
	var out string
	err := s.db.WithContext(ctx).Raw(q, args...).Row().Scan(&out)
	return out, err
}

package store

import "context"

// MigrateTo moves the schema up or down to version (tests of migrations).
func MigrateTo(ctx context.Context, s *Store, version int64) error {
	p, err := s.provider()
	if err != nil {
		return err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if cur > version {
		_, err = p.DownTo(ctx, version)
	} else {
		_, err = p.UpTo(ctx, version)
	}
	return err
}

// ExecRaw runs a statement with ? placeholders on either store.
func ExecRaw(ctx context.Context, s *Store, q string, args ...any) error {
	return s.db.WithContext(ctx).Exec(q, args...).Error
}

// QueryString reads one text value.
func QueryString(ctx context.Context, s *Store, q string, args ...any) (string, error) {
	var v string
	err := s.db.WithContext(ctx).Raw(q, args...).Row().Scan(&v)
	return v, err
}

// SealForTest encrypts like the store does when ENCRYPTION_KEY is set.
func SealForTest(key, plain string) string {
	c, err := newSecretCipher(key)
	if err != nil {
		panic(err)
	}
	return c.seal(plain)
}

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

package store

import (
	"gorm.io/gorm"
)

// The profile, token and erasure queries (profiles_*.go, apitokens.go,
// suppressions.go, feed_tail.go) go through GORM's Raw and Exec like the
// rest of the store, with ? placeholders on both dialects and times bound
// as dbTime: they are batched multi-row upserts, row-value comparisons and
// streaming reads inside one locked transaction, beyond what the builder
// says well. Reads of many rows use Rows and scan row by row, as the feed
// does, so a read of many events holds one row at a time.

// exec runs a statement and says how many rows it changed.
func exec(db *gorm.DB, q string, args ...any) (int64, error) {
	res := db.Exec(q, args...)
	return res.RowsAffected, res.Error
}

// first scans the one row q returns into dst; ErrNotFound when there is none.
func first(db *gorm.DB, dst any, q string, args ...any) error {
	res := db.Raw(q, args...).Scan(dst)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

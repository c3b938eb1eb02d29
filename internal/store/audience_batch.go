package store

import (
	"strings"

	"gorm.io/gorm"
)

// execRows runs head VALUES (…),(…) tail in statements of at most
// rowsPerStatement rows (and 4000 bind variables): one round trip per
// chunk instead of one per row, the way the profile follower writes.
func execRows(tx *gorm.DB, head, tail string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, min(rowsPerStatement, 4000/len(rows[0])))
	row := "(" + placeholders(len(rows[0])) + ")"
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(part)*len(part[0]))
		for i, r := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
			args = append(args, r...)
		}
		b.WriteByte(' ')
		b.WriteString(tail)
		if err := tx.Exec(b.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

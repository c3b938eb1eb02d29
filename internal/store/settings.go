package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type settingRow struct {
	Key   string `gorm:"primaryKey"`
	Value string
}

func (settingRow) TableName() string { return "settings" }

// Setting reads one internal setting, such as the generated session key.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var row settingRow
	err := s.db.WithContext(ctx).Where("key = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return row.Value, nil
}

// SettingOrCreate returns the stored value for key, storing value first when
// there is none. Concurrent callers all get the same winner.
func (s *Store) SettingOrCreate(ctx context.Context, key, value string) (string, error) {
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&settingRow{Key: key, Value: value}).Error
	if err != nil {
		return "", fmt.Errorf("store setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}

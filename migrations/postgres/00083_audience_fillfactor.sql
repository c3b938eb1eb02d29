-- +goose Up
-- The audience follower rewrites the same rows every batch (a leaf state
-- per identity per leaf, memberships, timers, profiles): with room left in
-- each page an update stays on its page and touches no index (a HOT
-- update), instead of adding an index entry per update that every later
-- read walks past until a vacuum. Applies to pages written from now on.
ALTER TABLE audience_leaf_states SET (fillfactor = 50);
ALTER TABLE audience_members SET (fillfactor = 70);
ALTER TABLE timers SET (fillfactor = 70);

-- +goose Down
ALTER TABLE audience_leaf_states RESET (fillfactor);
ALTER TABLE audience_members RESET (fillfactor);
ALTER TABLE timers RESET (fillfactor);

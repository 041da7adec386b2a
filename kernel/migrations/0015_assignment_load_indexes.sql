-- What the assignment engine reads for every ticket it assigns (tickets.roster): each
-- engineer's open tickets, the tickets they were given or that changed today, and their
-- completed visits to the ticket's site. Without these indexes each of those reads scans
-- every ticket ever stored; with them it reads only the rows it counts.

-- Open tickets are few; the included columns are all the load sums need.
CREATE INDEX tickets_open_load_idx ON tickets.tickets (assignee_id)
    INCLUDE (status, priority, estimated_h)
    WHERE assignee_id IS NOT NULL AND status NOT IN ('completed', 'closed', 'cancelled');

-- "Assigned today": assigned tickets changed since the start of the day.
CREATE INDEX tickets_assignee_updated_idx ON tickets.tickets (updated_at) INCLUDE (assignee_id)
    WHERE assignee_id IS NOT NULL;

-- Earlier visits to one site, by engineer.
CREATE INDEX tickets_site_visits_idx ON tickets.tickets (site_id, assignee_id)
    WHERE status IN ('completed', 'closed') AND assignee_id IS NOT NULL;

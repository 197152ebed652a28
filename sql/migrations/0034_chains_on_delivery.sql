-- Triggered chains (issue 15, PRD-97) set off by a delivery as well as an approval: "when a
-- take of scene type X is delivered, run Y for the same character". A delivery is a
-- deliverable packaged for the take's revision (deliverables are written once, with their
-- status, so the chains_sensor reads them on a cursor of deliverable ids).
INSERT INTO chain_events (code, label, position)
VALUES ('delivered', 'A take of the scene type is delivered (its package made)', 2);

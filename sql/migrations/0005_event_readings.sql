-- 0005_event_readings: which reading of a sentence an event is, and what the coder knows
-- about it. See docs/EVENT_CODING.md (Conventions, Flags).

-- false for a second reading kept beside the primary one: "agreed to lift sanctions" is
-- an intent (primary) and the lifting (second); "claimed that Pakistan attacked" is an
-- accusation (primary) and the attack (second).
alter table events add column is_primary boolean default true;
-- background: history dated by a past year or war ("during the Kosovo war");
-- no_actor: neither actor is a country, an organisation or a named group;
-- second_reading: as is_primary = false.
alter table events add column flags varchar[] default [];
-- the trigger rule that coded the event: an id from pipeline/data/coder/triggers.jsonl
-- (hand-written) or petrarch_triggers.jsonl (converted), for auditing.
alter table events add column rule_id varchar;

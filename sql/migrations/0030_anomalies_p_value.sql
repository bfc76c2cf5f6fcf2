-- The detector's calibrated verdict beside its z-score: the sample's p-value
-- under its series' own history, and anomaly_score = S / (S + 1) with
-- S = -log10(p_value) (0.8 at the default alarm). NULL for rows written before.
ALTER TABLE anomalies
    ADD COLUMN IF NOT EXISTS p_value Nullable(Float64),
    ADD COLUMN IF NOT EXISTS anomaly_score Nullable(Float64)

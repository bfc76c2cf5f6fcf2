-- The window's DDSketch buckets, so coarser rollups can merge percentiles
-- exactly as the sketch would: key = signed bucket position (see
-- processors/rollup/sketch.ts), value = count. sketch_gamma is the sketch's
-- bucket growth factor, (1 + α) / (1 − α).
ALTER TABLE metric_rollups
    ADD COLUMN IF NOT EXISTS sketch Map(Int32, UInt64) CODEC(ZSTD(3)),
    ADD COLUMN IF NOT EXISTS sketch_gamma Float64

-- Mark a batch's raw pages as extracted and tagged ({src}: url, enriched_at).
update raw_pages set enriched_at = d.enriched_at
from {src} as d
where raw_pages.url = d.url

"""Official feeds in, `FeedItem`s out: fetching, parsing, classifying, change detection."""

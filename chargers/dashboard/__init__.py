"""The operators' dashboard and the site owners' portal: server-rendered pages, their forms and
the live channel that keeps them fresh."""

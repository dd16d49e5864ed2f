"""Event adapters: event files, registration sheets, agendas (HTML, iCalendar), table plans and summaries."""

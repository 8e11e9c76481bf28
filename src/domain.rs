//! Plain CRM data, validation and sanitising of user text. No I/O.

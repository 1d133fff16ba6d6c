"""The Hub board for coordinators and admins: everything waiting, with its clock, and the
steps that move it (pages only; each owning service enforces who may)."""

"""Provider companies (organisations): a company with its technicians, roles and invitations."""

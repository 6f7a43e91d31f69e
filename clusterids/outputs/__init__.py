"""What the library makes for its user from the database: album folders, face crops and photo
previews for the page, zips of albums. All of it is derived and can be made again."""

# Solutions for notebook 00. Each cell replaces the exercise cell of the same name.

# %% [solution] password-request
password_request = 6  # POST /login, to the authorization server

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_s3_bucket_acl" "b" {
  bucket = aws_s3_bucket.b.id
  acl    = "public-read"
}
resource "aws_iam_policy" "p" {
  name   = "p"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Action = "*", Effect = "Allow", Resource = "*" }]
  })
}
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::x/*"]
  }
}
resource "aws_ebs_volume" "v" {
  availability_zone = "eu-west-1a"
  size              = 10
}
# lockgate:ignore=LG-TF-007 internal test db
resource "aws_db_instance" "db" {
  publicly_accessible = true
  storage_encrypted   = true
}
resource "google_compute_firewall" "fw" {
  name          = "fw"
  network       = "default"
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["3389", "8000-8100"]
  }
}
resource "azurerm_network_security_rule" "r" {
  name                        = "ssh"
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "22"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
}
